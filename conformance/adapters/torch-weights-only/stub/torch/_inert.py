"""The inert objects the stub torch is made of: nothing here computes, imports or touches
anything; every call and every state is recorded so that the adapter can write what the
unpickler built as pickle JSON."""


class Inert:
    """An instance of a stubbed class (or the result of a stubbed function): records how it
    was made (`_brine_new`: ("call", callee, args) or ("newobj", cls, args)) and what was done
    to it afterwards (`_brine_ops`: ("build", state))."""

    def __setstate__(self, state):  # BUILD on Parameter and other allowed types
        self._brine_ops.append(("build", state))

    def set_(self, *state):  # BUILD on a Tensor: the unpickler calls inst.set_(*state)
        self._brine_ops.append(("build", state))


def _made(cls, how, callee, args):
    obj = object.__new__(cls)
    obj._brine_new = (how, callee, list(args))
    obj._brine_ops = []
    return obj


class InertMeta(type):
    """Metaclass of the stubbed classes: calling one (REDUCE) records a call, __new__ (NEWOBJ)
    a newobj; neither runs any code of the class."""

    def __call__(cls, *args, **kwargs):
        if kwargs:
            raise TypeError("the torch stub takes no keyword arguments")
        return _made(cls, "call", cls, args)

    def __repr__(cls):
        return "<torch stub class %s.%s>" % (cls.__module__, cls.__qualname__)


def inert_class(module, name):
    def new(cls, *args, **kwargs):
        if kwargs:
            raise TypeError("the torch stub takes no keyword arguments")
        return _made(cls, "newobj", cls, args)

    return InertMeta(name, (Inert,), {"__module__": module, "__qualname__": name,
                                      "__new__": new})


class InertFunction:
    """A stubbed function: calling it records the call."""

    def __init__(self, module, name):
        self.__module__ = module
        self.__name__ = self.__qualname__ = name

    def __call__(self, *args, **kwargs):
        if kwargs:
            raise TypeError("the torch stub takes no keyword arguments")
        return _made(Inert, "call", self, args)

    def __repr__(self):
        return "<torch stub function %s.%s>" % (self.__module__, self.__name__)


class Named:
    """A stubbed constant (a dtype, a qscheme, a legacy storage type): str() as torch writes
    it, which is the key the unpickler's allowlist files it under; not callable."""

    def __init__(self, module, name):
        self.__module__ = module
        self.__name__ = name

    def __str__(self):
        return "%s.%s" % (self.__module__, self.__name__)

    __repr__ = __str__
