"""Push providers: each turns one message to one device into an Outcome, and never raises."""
