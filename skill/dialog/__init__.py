"""Conversation logic in plain Python: no ASK imports here, so every rule is a unit test away."""
