"""Search over substrate parameters: ASAL objectives, optimisers, MAP-Elites, the Life sweep."""
