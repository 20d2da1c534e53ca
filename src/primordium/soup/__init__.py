"""Program soups (Computational Life): random programs that meet in pairs, run, and split.

Engines (``languages``, ``soup``, ``metrics``) are pure functions of arrays;
``experiment`` runs them into the store and ``pictures`` draws what happened.
"""
