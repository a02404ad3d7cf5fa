"""What a data file's first bytes say it is: the signatures surveys and register extracts share.

Both the survey readers and the register extracts decide a file's format from its content, not
its extension; the byte patterns of the statistical formats live here once.
"""

from __future__ import annotations

# A SAS7BDAT file starts with 12 zero bytes and SAS's 20-byte magic number.
SAS7BDAT_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
# Releases of Stata 5-13's binary format (114 and 115 are Stata 10-13).
OLD_STATA_RELEASES = frozenset({102, 103, 104, 105, 108, 110, 111, 112, 113, 114, 115})


def is_sas7bdat(head: bytes) -> bool:
    """Whether the first bytes are a SAS7BDAT file's."""
    return head.startswith(SAS7BDAT_MAGIC)


def is_stata(head: bytes) -> bool:
    """Whether the first bytes are a Stata file's: the XML-like header of Stata 14+ or the
    binary header of Stata 5-13 (release byte, byte order 1 or 2, file type 1, padding 0)."""
    if head.startswith(b"<stata_dta>"):
        return True
    return (len(head) >= 4 and head[0] in OLD_STATA_RELEASES
            and head[1:4] in (b"\x01\x01\x00", b"\x02\x01\x00"))
