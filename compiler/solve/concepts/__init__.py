"""The solution concepts, one module each, registered in the order they are tried."""

from prefc.compiler.solve.concepts.argmax import Argmax
from prefc.compiler.solve.concepts.backward import Backward
from prefc.compiler.solve.concepts.role_continuous import RoleContinuous
from prefc.compiler.solve.concepts.role_finite import RoleFinite
from prefc.compiler.solve.concepts.symmetric_continuous import SymmetricContinuous
from prefc.compiler.solve.concepts.symmetric_finite import SymmetricFinite

__all__ = ["Argmax", "Backward", "RoleContinuous", "RoleFinite", "SymmetricContinuous", "SymmetricFinite"]
