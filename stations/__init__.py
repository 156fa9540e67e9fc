"""What a station is: its file format, the code that opens one, the station files and the CLI."""
