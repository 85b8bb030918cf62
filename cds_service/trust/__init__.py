"""CDS Hooks 2.0 client trust: trusted-client configuration, JWKS caching, JWT verification.

``cds_service.auth`` is the public entry point; this package holds its parts:
``policy`` (the ``PECOMA_*`` auth variables), ``registry`` (trusted clients and their keys),
``verify`` (the checks run on every token).
"""
from cds_service.trust.policy import AuthPolicy, TrustConfigError
from cds_service.trust.registry import TrustedClient, TrustRegistry

__all__ = ["AuthPolicy", "TrustConfigError", "TrustedClient", "TrustRegistry"]
