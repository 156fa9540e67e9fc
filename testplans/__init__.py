"""Test plans (eol/, cert/, rma/) and the limits file of each model (limits/)."""
