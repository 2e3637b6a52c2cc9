"""Trainers and the step loop shared by every driver."""
