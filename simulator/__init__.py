"""The local simulator (`python -m skill chat`): a development tool, not part of the skill.

It lives beside the `skill` package, not in it, so the Lambda zip and the web service's
install carry only what they run. It reads the interaction models from the checkout.
"""
