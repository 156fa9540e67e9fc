"""Record store, PDF certificate, exports and lot analytics."""
