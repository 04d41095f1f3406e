"""Use cases: each is ``fn(session, validated_input) -> result``, writes through the journal, never commits."""
