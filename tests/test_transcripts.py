"""Every conversation in tests/transcripts/*.yaml, played through `lambda_handler`."""

import pytest

from transcript_runner import load_conversations, play

CASES = load_conversations()


def test_there_are_transcripts():
    assert len(CASES) >= 10


@pytest.mark.parametrize("conversation", [c for _, c in CASES], ids=[i for i, _ in CASES])
def test_transcript(conversation, lambda_handler):
    heard = play(conversation, lambda_handler)
    assert heard, "a transcript must have at least one spoken turn"
