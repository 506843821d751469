"""Backstride: the backend of a running-coach app for runners with back pain."""
