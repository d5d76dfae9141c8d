from .blocks import Block, Unblock
from .bounces import Bounce, Channel, InboundMessage
from .policy import BouncePolicy
from .sending import Mailing, SentEmail

__all__ = [
    "Block",
    "Bounce",
    "BouncePolicy",
    "Channel",
    "InboundMessage",
    "Mailing",
    "SentEmail",
    "Unblock",
]
