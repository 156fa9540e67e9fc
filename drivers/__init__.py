"""Instrument and pack-port drivers: role interfaces, vendor dialects, thin classes over a transport."""
