"""The operator panel: ``station serve`` (docs/operator.md)."""
