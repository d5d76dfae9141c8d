from .blocks import Block, Unblock
from .bounces import Bounce, Channel, InboundMessage
from .ingestion import BounceMailbox, InboundSource, UsedWebhookToken
from .jobs import BulkUnblockJob
from .policy import BouncePolicy
from .sending import Mailing, OptOut, Sender, SentEmail

__all__ = [
    "Block",
    "Bounce",
    "BounceMailbox",
    "BouncePolicy",
    "BulkUnblockJob",
    "Channel",
    "InboundMessage",
    "InboundSource",
    "Mailing",
    "OptOut",
    "Sender",
    "SentEmail",
    "Unblock",
    "UsedWebhookToken",
]
