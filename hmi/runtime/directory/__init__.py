"""Sign-in against LDAP / Active Directory: the question to the directory (``client``) and what
the station makes of the answer (``sign_in``)."""

from hmi.runtime.directory.client import Directory, DirectoryUnreachable, Outcome, Verdict
from hmi.runtime.directory.sign_in import DirectorySignIn

__all__ = ["Directory", "DirectorySignIn", "DirectoryUnreachable", "Outcome", "Verdict"]
