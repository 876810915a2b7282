"""The scheduler: a clock that asks the invoice service to run periodic jobs."""
