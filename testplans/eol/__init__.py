"""The factory end-of-line plan (SPEC §8)."""
