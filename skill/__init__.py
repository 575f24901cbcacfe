"""Pins & Needles: an Alexa skill that answers questions about a leg falling asleep.

Layers, with dependencies pointing inward:
content (the article and its passages) <- dialog (plain Python conversation logic)
<- alexa (ask-sdk-core handlers) <- hosting (Lambda, web service, simulator).
"""

__version__ = "1.0.0"
