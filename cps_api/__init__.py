"""The reference CPS API: a real server with real storage, for development and tests.

Contract: cps_api/openapi.yaml. Demo accounts: cps_api/seed.py.
"""
