"""Movement reminders on Alexa: which requests are about them (the work is in reminder_flow).

"Remind me to get up every hour", "what reminders do I have", "stop my movement
reminders", and Alexa's answer to the skill's reminders-permission request. Registered right
after the safety handlers (builder.py), so these requests belong to nobody else in any
state, and a red flag still comes first.

Every request passes through these `can_handle`s, few are about reminders: the flow
(`skill/alexa/reminder_flow.py`: permission, the Reminders and Settings APIs through the
SDK's own service clients in `reminder_api.py`, the reply) is imported on the first
reminder request, never on a cold start. Details: docs/reminders.md.
"""

from __future__ import annotations

from ask_sdk_core.dispatch_components import AbstractRequestHandler
from ask_sdk_core.handler_input import HandlerInput
from ask_sdk_core.utils import is_intent_name, is_request_type
from ask_sdk_model import Response


def _flow():
    from skill.alexa import reminder_flow

    return reminder_flow


class ReminderIntentHandler(AbstractRequestHandler):
    """One reminder intent, answered by one function of the flow (the table below)."""

    def __init__(self, intent: str, flow_function: str):
        self.intent, self.flow_function = intent, flow_function

    def can_handle(self, handler_input: HandlerInput) -> bool:
        return is_intent_name(self.intent)(handler_input)

    def handle(self, handler_input: HandlerInput) -> Response:
        return getattr(_flow(), self.flow_function)(handler_input)


#: "Remind me to get up every 45 minutes from 8 to 4" sets (or changes) the schedule; "what
#: reminders do I have" reads it back from the API (the truth), not from memory; "stop my
#: movement reminders" deletes every active one.
REMINDER_INTENTS = (
    ("SetMovementRemindersIntent", "set_reminders"),
    ("ListMovementRemindersIntent", "list_reminders"),
    ("StopMovementRemindersIntent", "stop_reminders"),
)


class PermissionAnswerHandler(AbstractRequestHandler):
    """Alexa's `Connections.Response` to our "AskFor": accepted, denied, or not answered."""

    def can_handle(self, handler_input: HandlerInput) -> bool:
        if not is_request_type("Connections.Response")(handler_input):
            return False
        return getattr(handler_input.request_envelope.request, "name", None) == "AskFor"

    def handle(self, handler_input: HandlerInput) -> Response:
        return _flow().permission_answer(handler_input)


HANDLERS = (
    PermissionAnswerHandler(),
    *(ReminderIntentHandler(intent, function) for intent, function in REMINDER_INTENTS),
)
