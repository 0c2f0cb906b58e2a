# Typed stubs for opkit.py: the Python twin of the package's TypeScript handler types
# (Mapper, Predicate, Slicer, BatchMapper, Context; src/core/types.ts).
from typing import Any, Awaitable, Callable, Generic, Iterable, List, Literal, Optional, TypeVar, Union

I = TypeVar("I")
O = TypeVar("O")
Config = TypeVar("Config")

JSON = Any

class Context(Generic[Config]):
    """What every handler receives besides the record."""

    #: "map", "filter", "slice" or "batch": the op command this child serves (OP_COMMAND).
    command: Literal["map", "filter", "slice", "batch"]
    #: The operator's options, from `--config FILE|JSON` (OP_CONFIG); {} without.
    config: Config
    #: The run's rank and world (OP_RANK, OP_WORLD_SIZE).
    rank: int
    world: int
    #: 1..N: which of the -w N children this is (OP_WORKER_ID).
    worker_id: int
    def log(self, *values: object) -> None:
        """One line on stderr, which op forwards prefixed with the child's name."""
    # setup() may add attributes of its own (a model, a client).
    def __getattr__(self, name: str) -> Any: ...
    def __setattr__(self, name: str, value: Any) -> None: ...

#: op map: the output record, or None to drop the input.
Mapper = Callable[[I, Context[Config]], Union[Optional[O], Awaitable[Optional[O]]]]
#: op filter: keep the record when the result is truthy.
Predicate = Callable[[I, Context[Config]], Union[object, Awaitable[object]]]
#: op slice: zero or more output records per input.
Slicer = Callable[[I, Context[Config]], Union[Iterable[O], Awaitable[Iterable[O]]]]
#: op batch: a list of records in, output records out.
BatchMapper = Callable[[List[I], Context[Config]], Union[Iterable[O], Awaitable[Iterable[O]]]]

Setup = Callable[[Context[Config]], Union[None, Awaitable[None]]]
Teardown = Callable[[Context[Config]], Union[None, Awaitable[None]]]

def run(
    handle: Union[Mapper[Any, Any, Any], Predicate[Any, Any], Slicer[Any, Any, Any], BatchMapper[Any, Any, Any]],
    setup: Optional[Setup[Any]] = ...,
    teardown: Optional[Teardown[Any]] = ...,
    concurrency: int = ...,
) -> None:
    """Answers op's records (--protocol json) until its input ends; `concurrency` records at once."""
