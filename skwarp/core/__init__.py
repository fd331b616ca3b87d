"""Plain-torch WARP core: scan solvers, structured transitions, root network
and the WARP module."""

from skwarp.core.physics import LotkaVolterra, MassSpringDamper, PhysicsPrior, Sine
from skwarp.core.root import RootNetwork, time_features
from skwarp.core.scan import final_state, linear_scan, scan_parallel, scan_sequential
from skwarp.core.spec import NetworkSpec
from skwarp.core.transitions import TRANSITIONS, Transition, make_transition
from skwarp.core.warp import WarpNetwork

__all__ = ["TRANSITIONS", "LotkaVolterra", "MassSpringDamper", "NetworkSpec", "PhysicsPrior",
           "RootNetwork", "Sine", "Transition", "WarpNetwork", "final_state",
           "linear_scan", "make_transition", "scan_parallel", "scan_sequential",
           "time_features"]
