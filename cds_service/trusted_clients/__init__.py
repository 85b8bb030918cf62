"""Trusted-client configuration data (JSON); ``demo.json`` is enabled by PECOMA_MODE=demo."""
