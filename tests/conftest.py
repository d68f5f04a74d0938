"""Fixtures shared by every test folder (fixtures only; no test logic here)."""
