"""The secure-api-gateway CrossGuard pack: one small rule per control of the layered model.

`policies()` is what `policy/__main__.py` hands to `PolicyPack`; `verdict.evaluate` runs the same
policies offline through pulumi_policy's analyzer servicer.
"""

from .catalog import RULES
from .pack import PACK_DESCRIPTION, PACK_NAME, bindings, pack_version, policies

__all__ = ["PACK_DESCRIPTION", "PACK_NAME", "RULES", "bindings", "pack_version", "policies"]
