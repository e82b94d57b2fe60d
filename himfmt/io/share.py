"""Which share of a sorted list of work one shard does: the helper every sharded step uses."""

from __future__ import annotations

from typing import Any

from himfmt.errors import HimfmtError


def shard_slice(items: list[Any], index: int, count: int) -> list[Any]:
    """Shard ``index`` of ``count`` of an already sorted list: items i with i % count == index.

    So shards are balanced to within one item, depend only on the sorted
    inputs, and their union is exactly the unsharded run.
    """
    if count < 1 or not 0 <= index < count:
        raise HimfmtError(f"shard.index must be in 0..{max(count, 1) - 1} and shard.count >= 1, not {index} of {count}")
    return items if count == 1 else items[index::count]
