"""Sending webhooks: signing (Standard Webhooks, with its library) and the guarded HTTP client."""
