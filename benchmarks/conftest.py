"""Benchmarks print tables: keep Home Assistant's INFO logging from burying them."""

import logging

logging.getLogger().setLevel(logging.WARNING)
