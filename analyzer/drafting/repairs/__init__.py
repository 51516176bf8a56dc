"""The drafter's repairs: small steps ``(text, ctx) -> (text, notes)``, in the order
:data:`analyzer.drafting.pipeline.PIPELINE` declares."""
