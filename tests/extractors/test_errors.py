"""Stage errors cross process boundaries intact (extraction runs in worker processes)."""

from __future__ import annotations

import pickle

from extractors.errors import ExtractionError, FeedError, FetchError, StageError


def test_every_stage_error_survives_pickling_with_its_fields() -> None:
    errors: list[StageError] = [
        FetchError(
            "rate_limited", "https://e.com/f", "HTTP 429", transient=True, status=429, retry_after=30.0
        ),
        FeedError("parse", "https://e.com/f", "not XML"),
        ExtractionError("paywall", "https://e.com/a", "subscriber wall"),
    ]
    for error in errors:
        copy = pickle.loads(pickle.dumps(error))
        assert type(copy) is type(error)
        assert (copy.reason, copy.url, copy.message, copy.transient, str(copy)) == (
            error.reason,
            error.url,
            error.message,
            error.transient,
            str(error),
        )
    fetch = pickle.loads(pickle.dumps(errors[0]))
    assert isinstance(fetch, FetchError)
    assert (fetch.status, fetch.retry_after) == (429, 30.0)
