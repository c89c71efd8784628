"""Reply quality: how well a unit's reply answers the citizen, shown to the centre at review 审核.

Start here: `reply_score` (pure, scores any texts and times) and `case_reply_score` (a case's
reply, as the console shows it). The rules are in the modules' docstrings: `relevance.py`
(TF-IDF cosine, key terms, places), `completeness.py` (the parts of a good reply), `score.py`
(timeliness, the overall figure and the verdict). Measured against one team's manual labels of
the Teddy Cup 2020 replies in `bench/replies.py` (results in `bench/RESULTS.md`).
"""

from __future__ import annotations

from .score import Reason, ReplyScore, Verdict, reply_score

__all__ = ["Reason", "ReplyScore", "Verdict", "case_reply_score", "reply_score"]


def case_reply_score(case) -> ReplyScore | None:
    """The score of a case's reply, or None when the unit has not replied."""
    if not case.reply:
        return None
    return reply_score(message=case.description, title=case.title, reply=case.reply,
                       received_at=case.created_at, replied_at=case.replied_at, due_at=case.reply_due,
                       language=case.language)
