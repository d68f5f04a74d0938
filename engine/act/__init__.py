"""Decide which actions to take (routing, inhibition, silences, retraining); never send."""
