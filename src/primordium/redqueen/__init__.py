"""Digital Red Queen: adversarial self-play evolution of Core War warriors.

Rounds of MAP-Elites; each round's warriors must beat the initial opponents
and the last K champions in a melee. Mutation by any OpenAI-compatible LLM or
by offline instruction-level operators (the default).
"""
