"""Tables that turn evidence (status code, reply code, diagnostic wording) into a category.

Sources: RFC 3463 / RFC 5248 enhanced status codes and the IANA "SMTP Enhanced Status Codes"
registry, RFC 5321 reply codes, RFC 7505 (null MX), RFC 7372 (authentication codes), and the
wording mail servers commonly write.

Precedence, strongest first (``decide``):

1. The DSN's ``Action``: delivered, relayed, expanded (and sendmail's "deliverable") and any
   2.x.x status block nothing (the caller reports them with no type); ``delayed`` is transient
   whatever its codes say.
2. The status class: 4.x.x (or, without a status, a 4xx reply code, or with neither, wording
   such as "try again", "expired", "gave up") is transient and can never make a permanent
   block on its own; 5.x.x may.
3. The enhanced status code's subject and detail (``STATUS_TABLE``): a specific code decides
   the category unless strong wording names another cause.  Faults on the sending side (our
   sender domain 5.1.8, DKIM/SPF/DMARC/reverse DNS 5.7.20-5.7.27) are temporary whatever the
   class: they are about us, and lifting them is a review's job once fixed.  x.0.0 only gives
   the class.
4. The reply code (``REPLY_TABLE``), when neither a specific status nor wording decides.
5. Wording (``PHRASE_RULES``): refines the category within the type the class allows.  A
   permanent reason under a transient class becomes its temporary counterpart
   (``_TEMPORARY_FOR``); a temporary reason (mailbox full, rate limit, block list...) stays
   temporary under 5.x.x.

Within the wording rules a strong rule beats a weak one and, within a tier, the wording that
comes first in the text wins.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import ahocorasick

from core.categories import PERMANENT, PERMANENT_CATEGORIES, TEMPORARY

# Internal reasons: every one but "domain" is a category slug of the core table.  "domain" and
# "other" take their block type from the status class.
MAILBOX = "bad_mailbox"
FULL = "mailbox_full"
DOMAIN = "domain"
NOT_ACCEPT = "bad_domain"
NETWORK = "network_error"
AUTH = "authentication_failure"
SENDER = "sender_rejected"
POLICY = "policy_related"
RELAY = "relay_denied"
SPAM = "possible_spam"
CONTENT = "content_related"
PROTOCOL = "protocol_error"
ROUTING = "routing_error"
OTHER = "other"

MEANING = {
    MAILBOX: "the mailbox does not exist or is no longer active",
    FULL: "the mailbox is full or the message is too large for it",
    DOMAIN: "the recipient's domain could not be found",
    NOT_ACCEPT: "the recipient's domain accepts no mail",
    NETWORK: "the message could not be handed on in time (network, timeout or rate limit)",
    AUTH: "the receiving server refused the sending host or domain (authentication or block list)",
    SENDER: "the recipient refuses mail from this sender",
    POLICY: "the recipient's server policy refused the message",
    RELAY: "the relay does not accept us as an authenticated sender",
    SPAM: "the receiving server judged the message to be spam",
    CONTENT: "the message was refused for its content",
    PROTOCOL: "the SMTP exchange failed on a protocol or format error",
    ROUTING: "the recipient's mail system is misconfigured or failed",
    OTHER: "delivery failed for an unspecified reason",
}

# Reasons that are permanent categories: under a transient class they become a temporary one.
_PERMANENT_CATEGORIES = frozenset(PERMANENT_CATEGORIES) - {OTHER}

# RFC 3463 subject.detail -> (reason, RFC meaning, specific?).  "Specific" codes decide on
# their own; vague ones (x.0.0, x.7.1 ...) let the wording decide first.
STATUS_TABLE: dict[str, tuple[str, str, bool]] = {
    "0.0": (OTHER, "undefined status", False),
    "1.0": (MAILBOX, "other address status", False),
    "1.1": (MAILBOX, "the mailbox does not exist", True),
    "1.2": (DOMAIN, "the destination domain does not exist", True),
    "1.3": (MAILBOX, "the destination address is malformed", True),
    "1.4": (MAILBOX, "the destination address is ambiguous", True),
    "1.6": (MAILBOX, "the mailbox has moved", True),
    "1.7": (SENDER, "the sender address is malformed", True),
    "1.8": (AUTH, "our sender address' domain is not valid (a fault on our side)", True),
    "1.9": (OTHER, "the message was relayed to a non-compliant mailer", False),
    "1.10": (NOT_ACCEPT, "the recipient's domain has a null MX (accepts no mail)", True),
    "2.0": (MAILBOX, "the mailbox has a problem", False),
    "2.1": (MAILBOX, "the mailbox is disabled", True),
    "2.2": (FULL, "the mailbox is full", True),
    "2.3": (FULL, "the message exceeds the mailbox size limit", True),
    "2.4": (ROUTING, "mailing list expansion failed", True),
    "3.0": (ROUTING, "the mail system reported an error", False),
    "3.1": (FULL, "the mail system is out of storage", True),
    "3.2": (NETWORK, "the mail system is not accepting messages", True),
    "3.3": (PROTOCOL, "the mail system lacks a required feature", True),
    "3.4": (FULL, "the message is too big for the mail system", True),
    "3.5": (ROUTING, "the mail system is misconfigured", True),
    "4.0": (NETWORK, "a network or routing problem occurred", False),
    "4.1": (NETWORK, "the destination host did not answer", True),
    "4.2": (NETWORK, "the connection was dropped", True),
    "4.3": (NETWORK, "a directory (DNS) lookup failed", True),
    "4.4": (DOMAIN, "the message could not be routed to the domain", True),
    "4.5": (NETWORK, "the mail system is congested", True),
    "4.6": (ROUTING, "a mail routing loop was detected", True),
    "4.7": (NETWORK, "delivery time expired", True),
    "5.0": (PROTOCOL, "a protocol error occurred", False),
    "5.1": (PROTOCOL, "the command was not recognised", True),
    "5.2": (PROTOCOL, "a syntax error occurred", True),
    "5.3": (POLICY, "there were too many recipients", True),
    "5.4": (PROTOCOL, "a command argument was invalid", True),
    "5.5": (PROTOCOL, "the wrong protocol version was used", True),
    "5.6": (PROTOCOL, "the message uses a feature the server does not support", True),
    "6.0": (CONTENT, "the message content could not be handled", False),
    "6.1": (CONTENT, "the media type is not supported", True),
    "6.2": (CONTENT, "conversion of the content is prohibited", True),
    "6.3": (CONTENT, "conversion of the content is not supported", True),
    "6.4": (CONTENT, "the content was converted with loss", True),
    "6.5": (CONTENT, "conversion of the content failed", True),
    "7.0": (POLICY, "a security or policy rule refused the message", False),
    "7.1": (AUTH, "delivery was not authorised; the message was refused", False),
    "7.2": (POLICY, "mailing list expansion is prohibited", True),
    "7.3": (PROTOCOL, "a security conversion is required", True),
    "7.4": (PROTOCOL, "security features are not supported", True),
    "7.5": (AUTH, "a cryptographic check failed", True),
    "7.6": (PROTOCOL, "the cryptographic algorithm is not supported", True),
    "7.7": (CONTENT, "the message integrity check failed", True),
    "7.8": (RELAY, "the authentication credentials are invalid", True),
    "7.9": (RELAY, "the authentication mechanism is too weak", True),
    "7.10": (PROTOCOL, "encryption is required", True),
    "7.11": (PROTOCOL, "encryption is required for the authentication mechanism", True),
    "7.12": (RELAY, "a password transition is needed", True),
    "7.13": (MAILBOX, "the user account is disabled", True),
    "7.14": (RELAY, "a trust relationship is required", True),
    "7.15": (POLICY, "the priority level is too low", True),
    "7.16": (FULL, "the message is too big for its priority", True),
    "7.17": (MAILBOX, "the mailbox owner has changed", True),
    "7.18": (DOMAIN, "the domain owner has changed", True),
    "7.19": (POLICY, "the RRVS check could not be completed", True),
    "7.20": (AUTH, "no passing DKIM signature was found", True),
    "7.21": (AUTH, "no acceptable DKIM signature was found", True),
    "7.22": (AUTH, "no valid author-matched DKIM signature was found", True),
    "7.23": (AUTH, "SPF validation failed", True),
    "7.24": (AUTH, "SPF validation failed with an error", True),
    "7.25": (AUTH, "the sending host has no valid reverse DNS", True),
    "7.26": (AUTH, "multiple authentication checks failed", True),
    "7.27": (AUTH, "our sender address' domain has a null MX (a fault on our side)", True),
    "7.28": (NETWORK, "a mail flood was detected", True),
    "7.29": (AUTH, "ARC validation failed", True),
    "7.30": (PROTOCOL, "REQUIRETLS is not supported", True),
}

# Status subject.detail pairs that describe our side (sender domain, authentication): the
# block they cause is temporary and no wording turns it into a recipient problem.
SENDER_SIDE = frozenset({"1.8", "7.20", "7.21", "7.22", "7.23", "7.24", "7.25", "7.26"})

# RFC 5321 reply codes, used only when neither status nor wording decides.
REPLY_TABLE: dict[str, tuple[str, str]] = {
    "421": (NETWORK, "the service is not available; the connection was closed"),
    "450": (MAILBOX, "the mailbox is unavailable for now"),
    "451": (NETWORK, "the server hit a local error"),
    "452": (FULL, "the server has insufficient storage"),
    "454": (PROTOCOL, "TLS is not available"),
    "500": (PROTOCOL, "the command was not recognised"),
    "501": (PROTOCOL, "a syntax error in the parameters"),
    "502": (PROTOCOL, "the command is not implemented"),
    "503": (PROTOCOL, "bad sequence of commands"),
    "504": (PROTOCOL, "the command parameter is not implemented"),
    "521": (NOT_ACCEPT, "the host does not accept mail"),
    "530": (RELAY, "authentication is required"),
    "535": (RELAY, "the authentication credentials are invalid"),
    "550": (MAILBOX, "the mailbox is unavailable"),
    "551": (MAILBOX, "the user is not local"),
    "552": (FULL, "the mailbox exceeded its storage allocation"),
    "553": (MAILBOX, "the mailbox name is not allowed"),
    "554": (POLICY, "the transaction failed"),
    "556": (NOT_ACCEPT, "the domain does not accept mail"),
}


Alternatives = tuple[tuple[tuple[str, ...], re.Pattern[str]], ...]


def _rx(*alternatives: tuple[str | tuple[str, ...], str]) -> Alternatives:
    """Compile wording alternatives, each given with the literal(s) one of which must occur
    in any text it matches (written out by hand, checked by the tests).

    Python's matcher tries every branch of an alternation at every position; finding the
    literals first (one Aho-Corasick pass, see _candidate_rules) leaves only the few patterns
    whose literal occurs to run.  Patterns are matched against
    lower-cased text (re.IGNORECASE is about 3x slower).  An empty tuple means "no literal
    is certain": the pattern is always run.
    """
    out = []
    for literals, pattern in alternatives:
        lits = (literals,) if isinstance(literals, str) else tuple(literals)
        out.append((lits, re.compile(pattern)))
    return tuple(out)


STRONG = 1
WEAK = 2

# Wording rules.  Among the rules whose pattern occurs, a strong rule beats a weak one and,
# within a tier, the wording that comes first in the text wins (servers state the main
# reason first and add boilerplate after).
PHRASE_RULES: list[tuple[str, int, Alternatives]] = [
    (
        RELAY,
        STRONG,
        _rx(
            (
                ("denied", "permitted", "allowed", "prohibited", "refused"),
                r"relay(?:ing)? (?:access )?(?:denied|not (?:permitted|allowed)|prohibit"
                r"ed|refused)",
            ),
            ("relay", r"(?:unable|not allowed|cannot|can't) (?:to )?relay"),
            ("do not relay", r"(?:we )?do not relay"),
            (("permitted", "authori"), r"not (?:a )?(?:permitted|authori[sz]ed) relay"),
            ("relay not permitted", r"relay not permitted"),
            ("insecure ", r"insecure (?:mail )?relay"),
            ("smtp auth", r"smtp auth(?:entication)? (?:is )?required"),
            ("authentication ", r"authentication (?:is )?required"),
            ("authenticate", r"must (?:be )?authenticated?"),
            ("no relaying", r"no relaying"),
            ("configured to relay", r"not configured to relay"),
            ("relay", r"relay(?:ing)? (?:is )?not (?:permitted|allowed|authori[sz]ed)"),
            ("relaying ", r"relaying (?:is )?(?:denied|disallowed|forbidden)"),
        ),
    ),
    (
        PROTOCOL,
        STRONG,
        _rx(
            ("syntax error", r"syntax error"),
            (
                ("not recognized", "unrecognized", "not implemented"),
                r"command (?:not recognized|unrecognized|not implemented)",
            ),
            ("bad sequence", r"bad sequence"),
            ("starttls", r"starttls"),
            ("encryption ", r"encryption (?:is )?required"),
            ("rfc", r"rfc ?(?:2822|5322|5321|822)"),
            ("compliant", r"not (?:rfc[ -]?)?compliant"),
            ("line too long", r"line too long"),
            ("invalid command", r"invalid command"),
            ("addresses in", r"multiple\b.{0,24}\baddresses in"),
            (" support ", r"(?:does not|doesn't) support (?:start)?tls"),
            (
                "header",
                r"(?:missing|duplicate|malformed|invalid|bad|multiple) (?:[\w-]+:? )?hea"
                r"ders?\b",
            ),
            ("header ", r"header (?:is )?(?:missing|invalid|malformed)"),
        ),
    ),
    (
        PROTOCOL,
        WEAK,
        _rx(
            ("tls", r"\btls\b"),
            ("protocol", r"protocol"),
        ),
    ),
    (
        AUTH,
        STRONG,
        _rx(
            ("domain of sender", r"domain of sender address"),
            (
                "sender",
                r"sender (?:address )?domain[^.\n]{0,40}(?:does not exist|not found|must "
                r"(?:exist|resolve)|(?:could|can) ?not be (?:found|resolved)|unresolv)",
            ),
            (("unroutable", "unresolvable"), r"(?:unroutable|unresolvable) sender"),
            ("spf", r"\bspf\b"),
            ("dkim", r"\bdkim\b"),
            ("dmarc", r"\bdmarc\b"),
            ("sender", r"sender ?id\b"),
            ("not authori", r"not authori[sz]ed to send"),
            ("reverse ", r"reverse (?:dns|lookup|mapping|hostname|address)"),
            ("ptr", r"\bptr\b"),
            ("rdns", r"\brdns\b"),
            (
                ("cannot", "can't", "could not", "unable to"),
                r"(?:cannot|can't|could not|unable to) (?:find|resolve|verify) (?:your )"
                r"?(?:host ?name|ip|reverse)",
            ),
            ("client host rejected", r"client host rejected"),
            ("helo command rejected", r"helo command rejected"),
            ("name was rejected", r"(?:your|my) (?:host)?name was rejected"),
            # Not "did not match an address": that one is about the mailbox.
            (" not ", r"(?:does|did) not (?:resolve|match)(?! (?:exactly )?(?:an?|any) )"),
            ("hostname does", r"hostname (?:does not|doesn't) match"),
            (
                "mismatch",
                r"mismatch(?:es|ed)? (?:the )?(?:client|connecting|sending|remote)? ?(?:"
                r"ip|host)",
            ),
            ("black", r"black ?list"),
            ("block", r"block ?list"),
            ("dnsbl", r"\bdnsbl\b"),
            ("rbl", r"\brbl\b"),
            ("spamhaus", r"spamhaus"),
            ("spamcop", r"spamcop"),
            ("listed ", r"listed (?:at|on|in|by)"),
            (
                ("black", "block", "ban", "deni", "refus"),
                r"(?:ip|address|host|server|network|domain)\b[^.]{0,30}\b(?:is|has been|"
                r"was) (?:currently )?(?:black|block|ban|deni|refus)",
            ),
            (" reputation", r"(?:poor|bad|low) reputation"),
            ("reputation", r"reputation"),
            ("connection ", r"connection (?:refused|rejected|denied) (?:from|by|due)"),
            ("blocked", r"(?:ip|connection|host|sender) (?:address )?(?:is )?blocked"),
            ("not accepting ", r"not accepting (?:mail|messages|connections) from"),
            ("refused to talk", r"refused to talk"),
            ("authentication fail", r"authentication fail"),
            ("unauthenticated", r"unauthenticated"),
            ("unverif", r"unverif\w* (?:sending )?(?:ip|host)"),
        ),
    ),
    (
        AUTH,
        WEAK,
        _rx(
            ("blocked", r"\bblocked\b"),
            ("sending ", r"sending (?:ip|host|server|mta)"),
        ),
    ),
    (
        FULL,
        STRONG,
        _rx(
            ("mail", r"mail ?box (?:is )?(?:full|over|exceeded|size limit)"),
            (
                ("over", "exceed"),
                r"(?:mail ?box|account|user|recipient|inbox|folder|mailfolder|disk)(?: i"
                r"s)? (?:is |has |was )?(?:over|exceed(?:ed|s)?)(?: (?:the|its|his|her|t"
                r"heir|storage|disk|size))* ?(?:quota|limit|allocation|storage|size)",
            ),
            ("quota", r"over ?quota"),
            ("quota ", r"quota (?:exceeded|exceed|full|violation)"),
            (
                "exceed",
                r"exceed(?:ed|s)? (?:the |its |his |her |their )?(?:storage|disk|mailbox"
                r"|size)? ?quota",
            ),
            (
                ("pace", "torage"),
                r"(?:insufficient|not enough|no) (?:disk |free |storage )?(?:space|stora"
                r"ge)",
            ),
            (("storage", "disk"), r"(?:storage|disk) (?:space )?(?:full|exceeded|limit)"),
            ("full mail", r"full mail ?box"),
            ("full", r"(?:mail ?box|inbox|folder) (?:has )?(?:become )?full"),
            ("is full", r"\bis full\b"),
            ("message ", r"message (?:size|length) (?:exceeds|is over|too)"),
            ("message ", r"message (?:is )?too (?:big|large)"),
            (("size", "length"), r"(?:size|length) (?:exceeds|over) "),
            ("exceed", r"exceeds? (?:the )?(?:maximum |max )?(?:message |allowed )?size"),
            (" limit ", r"(?:size|line|length) limit (?:exceeded|reached)"),
            ("size limit", r"size limit"),
            (
                "exceed",
                r"exceed(?:s|ed|ing)? (?:the )?(?:maximum|max|allowed|permitted)[\w ]{0,24}size",
            ),
            ("quota", r"(?:reached|exceed(?:s|ed|ing)?|over) (?:\w+ ){0,2}quota"),
            ("disk quota", r"disk quota"),
            ("quota ", r"quota (?:reached|violation)"),
            ("too ", r"too (?:big|large) for"),
        ),
    ),
    (
        NETWORK,
        STRONG,
        _rx(
            ("retry time", r"retry time(?:out)? (?:exceeded|expired)"),
            ("retry time not reached", r"retry time not reached"),
            ("greylist", r"greylist"),
            ("graylist", r"graylist"),
            ("within", r"not (?:be )?(?:delivered|reachable) within"),
            ("queue period", r"queue period"),
            ("respond", r"(?:server|host) (?:did not|does not|didn't|doesn't) respond"),
            ("not responding", r"not responding"),
            ("no response from", r"no response from"),
            ("at a rate", r"at a rate that prevents"),
            ("rate", r"receiving (?:mail|messages) (?:at )?(?:a|too high a) rate"),
            ("for the last ", r"for the last \d+ (?:second|minute|hour|day)"),
            ("expired", r"(?:delivery|message|time)(?: time)? (?:has )?expired"),
            (
                "deliver",
                r"(?:could not|couldn't|unable to|can't|cannot) (?:be )?deliver(?:ed)?[^"
                r".\n]{0,40}(?:within|for (?:more than|over)?|after) \d+",
            ),
            (
                "too long",
                r"(?:has been|was|been|is) (?:in|on) (?:the )?queue (?:for )?too long",
            ),
            ("too long in ", r"too long in (?:the )?queue"),
            ("have been failing", r"have been failing"),
            ("failing for a long time", r"failing for a long time"),
            ("time", r"timed? ?out"),
            ("time", r"time-?out"),
            ("connection ", r"connection (?:timed out|refused|reset|lost|closed|dropped)"),
            (
                " accept ",
                r"(?:did not|does not|refused to|would not) accept (?:our )?(?:requests?"
                r" to )?connect",
            ),
            ("socket error", r"socket error"),
            ("lost connection", r"lost connection"),
            ("no route to host", r"no route to host"),
            ("unreachable", r"(?:network|host) (?:is )?unreachable"),
            (" to connect", r"(?:unable|could not|couldn't|failed) to connect"),
            ("too many ", r"too many (?:connections|concurrent|simultaneous|sessions)"),
            (" limit", r"(?:connection|rate|sending) limit"),
            ("limit", r"rate ?limit"),
            ("too many ", r"too many (?:messages|mails|emails|recipients)"),
            (
                ("sending", "receiving"),
                r"(?:sending|receiving) (?:too )?(?:fast|quickly|many)",
            ),
            ("unexpected volume", r"unexpected volume"),
            (
                ("error", "lookup failed", "failure", "timeout"),
                r"dns (?:error|lookup failed|failure|timeout)",
            ),
            ("throttl", r"throttl"),
        ),
    ),
    (
        NETWORK,
        WEAK,
        _rx(
            ("giving up on", r"giving up on"),
            ("gave up", r"gave up"),
            ("later", r"try (?:again )?later"),
            (
                "temporar",
                r"temporar(?:y|ily) (?:deferred|unavailable|rejected|failure|blocked)",
            ),
            ("deferred", r"deferred"),
        ),
    ),
    (
        NOT_ACCEPT,
        STRONG,
        _rx(
            ("null", r"null ?mx"),
            ("accepts no ", r"accepts no (?:e-?)?mail"),
            ("no mx ", r"no mx (?:record )?found"),
            ("does not accept ", r"does not accept (?:any )?(?:e-?)?mail"),
            (
                ("does not", "doesn't", "will not"),
                r"(?:domain|host|server) (?:does not|doesn't|will not) (?:accept|receive"
                r") ",
            ),
            ("not accepting ", r"not accepting (?:any )?(?:e-?)?mail"),
        ),
    ),
    (
        DOMAIN,
        STRONG,
        _rx(
            ("not found", r"host (?:or domain name )?not found"),
            (("host", "domain"), r"(?:unknown|invalid|bad) (?:host|domain)"),
            ("unknown", r"host ?unknown"),
            (
                "domain ",
                r"domain (?:name )?(?:not found|does not exist|doesn't exist|is invalid|"
                r"unknown)",
            ),
            ("domain may not exist", r"(?:account or )?domain may not exist"),
            ("no such ", r"no such (?:domain|host)"),
            ("name or service not known", r"name or service not known"),
            ("nxdomain", r"nxdomain"),
            ("unrout", r"unrout(?:e)?able (?:mail )?(?:address|domain)"),
            ("no ", r"no (?:valid )?mx"),
            (("not found", "failed"), r"mx (?:record )?(?:lookup )?(?:not found|failed)"),
            (("unable", "failed"), r"(?:unable|failed) to (?:route|resolve)"),
            ("bad destination ", r"bad destination (?:system|host)"),
            ("nonexistentdomain", r"nonexistentdomain"),
            (" record", r"no (?:address|a) records?"),
        ),
    ),
    (
        MAILBOX,
        STRONG,
        _rx(
            ("access denied", r"recipient address rejected: access denied"),
            (
                "invalid ",
                r"invalid (?:[\w-]+ ){0,3}(?:userid|user id|user ?name|recipient|mail ?box|"
                r"address)",
            ),
            (
                "match",
                r"(?:did not|does not|doesn't) (?:exactly )?match (?:an?|any) (?:[\w-]+ ){0,2}"
                r"(?:e-?mail address|address|user|account|mail ?box)",
            ),
            # The same in French, German, Spanish, Italian, Portuguese, Chinese and Japanese.
            (
                ("existe", "existiert", "esiste", "unbekannt", "不存在", "存在しません"),
                r"n'existe pas|existiert nicht|no existe|non esiste|não existe|"
                r"(?:empfänger|benutzer|adresse) unbekannt|不存在|存在しません",
            ),
            ("unknown", r"user ?unknown"),
            (
                "unknown ",
                r"unknown (?:user|recipient|mail ?box|local.?part|address|account|alias)",
            ),
            (
                "no such ",
                r"no such (?:user|mail ?box|recipient|address|account|person|local user)",
            ),
            (
                ("exist", "found", "valid", "available", "active"),
                r"(?:user|mail ?box|recipient|address|account|addressee|e-?mail)(?: addr"
                r"ess)? (?:does not|doesn't|did not|not|no longer) (?:exist|found|valid|"
                r"available|active)",
            ),
            (" exist", r"(?:does not|doesn't) exist"),
            ("not exist", r"not exist"),
            ("invalid ", r"invalid (?:recipient|mail ?box|address|user|account|e-?mail)"),
            (
                (
                    "invalid",
                    "unknown",
                    "disabled",
                    "inactive",
                    "suspended",
                    "deactivated",
                    "closed",
                    "terminated",
                    "expired",
                    "locked",
                ),
                r"(?:recipient|mail ?box|address|user|account) (?:is )?(?:invalid|unknow"
                r"n|disabled|inactive|suspended|deactivated|closed|terminated|expired|lo"
                r"cked)",
            ),
            (
                (
                    "disabled",
                    "deactivated",
                    "suspended",
                    "closed",
                    "terminated",
                    "removed",
                    "deleted",
                    "locked",
                ),
                r"(?:account|mail ?box|address) (?:has been|was) (?:disabled|deactivated"
                r"|suspended|closed|terminated|removed|deleted|locked)",
            ),
            (" not found", r"(?:user|recipient|mail ?box|address|account) not found"),
            (
                ("valid", "known"),
                r"not (?:a )?(?:valid|known) (?:mail ?box|recipient|user|address)",
            ),
            ("addressee unknown", r"addressee unknown"),
            ("no mail", r"no mail ?box"),
            (
                ("unavailable", "not available", "not found"),
                r"mail ?box (?:unavailable|not available|not found)",
            ),
            ("no longer ", r"no longer (?:in use|with|valid|active|available|exists)"),
            ("has moved", r"has moved"),
            ("not our customer", r"not our customer"),
            ("not listed in", r"not listed in"),
            ("address rejected", r"(?<!recipient )(?<!sender )\baddress rejected"),
            ("undeliverable address", r"undeliverable address(?!\s*:)"),
            ("bad destination mail", r"bad destination mail ?box"),
            (" does", r"(?:this|that|the) (?:user|account) (?:doesn't|does not)"),
        ),
    ),
    (
        MAILBOX,
        WEAK,
        _rx(
            ("recipient ", r"recipient (?:address )?rejected"),
        ),
    ),
    (
        SENDER,
        WEAK,
        _rx(
            ("after mail from", r"after mail from"),
        ),
    ),
    (
        SENDER,
        STRONG,
        _rx(
            (
                "sender ",
                r"sender (?:address )?(?:rejected|refused|denied|blocked|not (?:allowed|"
                r"permitted))",
            ),
            ("sender verif", r"sender verif"),
            (
                "sender address ",
                r"(?:domain of )?sender address [^.\n]{0,80}(?:does not exist|rejected|i"
                r"nvalid)",
            ),
            (
                ("rejected", "refused", "invalid", "not allowed"),
                r"(?:envelope|mail from|from address|return.path)[^.\n]{0,40}(?:rejected"
                r"|refused|invalid|not allowed)",
            ),
            ("permission to post", r"permission to post"),
            (
                ("allowed", "permitted", "authori"),
                r"not (?:allowed|permitted|authori[sz]ed) to (?:post|send (?:mail|messag"
                r"es) to)",
            ),
            (("members", "subscribers"), r"only (?:members|subscribers) (?:can|may) post"),
            ("rejected by ", r"rejected by (?:the )?recipient(?! domain)"),
            (
                " sender",
                r"(?:unroutable|invalid|unknown|bad|unverifiable|unresolvable) sender",
            ),
            (
                "recipient ",
                r"recipient (?:has )?(?:blocked|refused|rejected) (?:you|your|mail|messa"
                r"ges)",
            ),
            (
                "address ",
                r"your (?:e-?mail )?address (?:has been |is )?(?:blocked|rejected|refuse"
                r"d)",
            ),
            ("access denied", r"access denied"),
        ),
    ),
    (
        SPAM,
        STRONG,
        _rx(
            ("spam", r"spam"),
            ("unsolicited", r"unsolicited"),
            ("bulk ", r"bulk (?:e-?)?mail"),
            ("junk", r"\bjunk\b"),
            ("ube", r"\bube\b"),
            ("uce", r"\buce\b"),
        ),
    ),
    (
        CONTENT,
        STRONG,
        _rx(
            ("virus", r"virus"),
            ("malware", r"malware"),
            ("infected", r"infected"),
            (
                ("forbidden", "prohibited", "banned", "dangerous", "blocked"),
                r"(?:forbidden|prohibited|banned|dangerous|blocked) (?:attachment|file|c"
                r"ontent)",
            ),
            ("content filter", r"content filter"),
        ),
    ),
    (
        CONTENT,
        WEAK,
        _rx(
            ("attachment", r"attachment"),
            ("content ", r"content (?:rejected|not accepted)"),
            ("message content", r"message content"),
            ("its content", r"its content"),
        ),
    ),
    (
        POLICY,
        STRONG,
        _rx(
            ("polic", r"polic(?:y|ies)"),
            ("administrative", r"administrative(?:ly)? (?:prohibited|denied|rejected)"),
        ),
    ),
    (
        POLICY,
        WEAK,
        _rx(
            (("permitted", "allowed"), r"not (?:permitted|allowed)"),
            ("prohibited", r"prohibited"),
            ("refused", r"refused"),
            ("rejected", r"rejected"),
            ("denied", r"denied"),
        ),
    ),
    (
        ROUTING,
        STRONG,
        _rx(
            ("mail loop", r"mail loop"),
            (" back", r"loops? back"),
            (" detected", r"loop(?:ing)? detected"),
            ("too many hops", r"too many hops"),
            ("routing loop", r"routing loop"),
            ("forwarded more than", r"forwarded more than"),
            ("mailer error", r"mailer error"),
            (
                ("delivery", "configuration"),
                r"local (?:delivery|configuration) (?:failed|error)",
            ),
            ("configuration error", r"configuration error"),
            ("misconfigur", r"misconfigur"),
            ("command ", r"command (?:died|failed)"),
            ("unable to deliver to program", r"unable to deliver to program"),
            ("duplicated message-id", r"duplicated message-id"),
            ("pipe to |", r"pipe to \|"),
            ("no such file or directory", r"no such file or directory"),
        ),
    ),
    (
        ROUTING,
        WEAK,
        _rx(
            ("system error", r"system error"),
            ("internal ", r"internal (?:server )?error"),
        ),
    ),
]


@dataclass(frozen=True, slots=True)
class Decision:
    """A category decision with the block type and a short human explanation."""

    type: str
    category: str
    explanation: str


def _status_key(status: str) -> str:
    _, _, rest = status.partition(".")
    return rest


def _index_rules() -> tuple[dict[str, list[tuple[int, int]]], list[tuple[int, int]]]:
    """Index every wording alternative by the literals that must occur for it to match."""
    by_literal: dict[str, list[tuple[int, int]]] = {}
    unfiltered: list[tuple[int, int]] = []
    for ri, (_reason, _tier, alternatives) in enumerate(PHRASE_RULES):
        for ai, (literals, _pattern) in enumerate(alternatives):
            if not literals:
                unfiltered.append((ri, ai))
            for lit in literals:
                by_literal.setdefault(lit, []).append((ri, ai))
    return by_literal, unfiltered


_BY_LITERAL, _UNFILTERED = _index_rules()
# Every literal found in one pass over the text (Aho-Corasick, a C extension): a regular
# expression alternating over ~200 literals tries each at every position.
_LITERALS = ahocorasick.Automaton()
for _literal in _BY_LITERAL:
    _LITERALS.add_word(_literal, _literal)
_LITERALS.make_automaton()


def _candidate_rules(low: str) -> set[tuple[int, int]]:
    """Return the (rule, alternative) pairs whose required literal occurs in ``low``."""
    todo = set(_UNFILTERED)
    for literal in {found for _end, found in _LITERALS.iter(low)}:
        todo.update(_BY_LITERAL[literal])
    return todo


# A virus scanner's banner ("scanned for all viruses") says nothing about the failure.
_VIRUS_BANNER = re.compile(
    r"(?:scanned|checked|protected)[^\n]{0,40}?(?:virus|viruses|malware)|virus[- ]?(?:free|"
    r"scanned|checked|protected)|no (?:known )?virus(?:es)? (?:was |were )?(?:found|detected)|"
    r"anti-?virus (?:software|scanner|protection)"
)


def _blank(m: re.Match[str]) -> str:
    return " " * len(m.group(0))


@lru_cache(maxsize=512)
def phrase_matches(text: str | None) -> tuple[tuple[int, int, str, str], ...]:
    """Return (tier, position, reason, words) for every wording rule matching ``text``,
    best first.  Cached: the same diagnostic is often rated, then decided."""
    if not text:
        return ()
    low = text.lower()
    if "virus" in low:
        low = _VIRUS_BANNER.sub(_blank, low)
    # One fast pass for the required literals decides which few patterns are worth running.
    todo = _candidate_rules(low)
    best: dict[int, tuple[int, int, re.Match[str]]] = {}
    for ri, ai in todo:
        m = PHRASE_RULES[ri][2][ai][1].search(low)
        if m is not None:
            key = (m.start(), ai, m)  # earliest wins; at a tie, the earlier-listed pattern
            prev = best.get(ri)
            if prev is None or key[:2] < prev[:2]:
                best[ri] = key
    # Rule order breaks ties between rules matching at the same place.
    ranked = sorted((PHRASE_RULES[ri][1], pos, ri, m) for ri, (pos, _ai, m) in best.items())
    return tuple((tier, pos, PHRASE_RULES[ri][0], m.group(0)) for tier, pos, ri, m in ranked)


# Where the status class (4) forbids a permanent block, a permanent reason becomes the
# temporary category that says the same thing about a condition that may pass.
_TEMPORARY_FOR = {
    MAILBOX: OTHER,
    NOT_ACCEPT: "domain_error",
    DOMAIN: "domain_error",
    SENDER: AUTH,
    POLICY: AUTH,
    RELAY: AUTH,
    SPAM: CONTENT,
    PROTOCOL: NETWORK,
    ROUTING: NETWORK,
    OTHER: OTHER,
}

# Text saying the failure is transient: "try again", "deferred", "expired", "gave up"...
# Used only when neither a status nor a reply code gives the class.
_TRANSIENT_WORDING = re.compile(
    # Not a bare "try again": permanent failures often end "check the address and try again".
    r"try(?:ing)? again later|will try again|temporar|deferr|delayed|queue period|"
    r"not (?:be )?(?:delivered|reachable) within|"
    r"expired|gave up|giving up|retry time|retry timeout|will (?:be )?retr|still trying|"
    r"too long in (?:the )?queue|in the queue too long|(?:for|in) the last \d+ (?:second|minute|"
    r"hour|day)|not yet been delivered|has not been delivered yet|timed? ?out|try later"
)


# Each alternative of _TRANSIENT_WORDING contains one of these.
_TRANSIENT_WORDS = (
    "again",
    "temporar",
    "deferr",
    "delayed",
    "queue",
    "within",
    "expired",
    "gave up",
    "giving up",
    "retr",
    "the last",
    "not yet",
    "not been delivered yet",
    "still trying",
    "time",
    "try later",
)


def is_transient_wording(text: str | None) -> bool:
    """Return whether ``text`` says the failure is temporary (deferred, expired, retry)."""
    if not text:
        return False
    low = text.lower()
    return any(w in low for w in _TRANSIENT_WORDS) and _TRANSIENT_WORDING.search(low) is not None


def _type_for(reason: str, klass: str) -> str:
    if klass == "4":
        return TEMPORARY
    if reason in _PERMANENT_CATEGORIES or reason in (DOMAIN, OTHER):
        return PERMANENT
    return TEMPORARY


def _category_for(reason: str, klass: str) -> str:
    if klass == "4":
        if reason in _PERMANENT_CATEGORIES or reason == DOMAIN:
            return _TEMPORARY_FOR[reason]
        return reason
    if reason == DOMAIN:
        return "bad_domain"
    return reason


def status_class(
    status: str | None,
    reply_code: str | None,
    action: str | None,
    text: str | None = None,
) -> str:
    """Return the block class, "4" (temporary) or "5" (may be permanent), of one failure.

    A delayed DSN is transient whatever its codes; otherwise the enhanced status's class, then
    the reply code's; with neither, wording that says "try again", "expired"... makes it 4.
    """
    if action == "delayed":
        return "4"
    if status and status[0] in "45":
        return status[0]
    if reply_code and reply_code[0] in "45":
        return reply_code[0]
    return "4" if is_transient_wording(text) else "5"


def decide(
    status: str | None,
    reply_code: str | None,
    diagnostic: str | None,
    action: str | None = None,
    context: str | None = None,
    recipient: str | None = None,
) -> Decision:
    """Return the block type, category and explanation for one failed recipient.

    The precedence is the module's (see its docstring): the class from Action, status, reply
    code or transient wording decides whether the block may be permanent; the status' subject
    and detail, the wording and the reply code then choose the category within that type.
    """
    if status is None and recipient and recipient.lower().endswith("@googlegroups.com"):
        # Google Groups answers every refused post the same way, in the sender's language:
        # the sender may not post to the group (or the group is gone).
        return Decision(
            PERMANENT,
            SENDER,
            "Google Groups refused the post: the sender may not post to this group",
        )
    klass = status_class(status, reply_code, action, f"{diagnostic or ''}\n{context or ''}")
    entry = STATUS_TABLE.get(_status_key(status)) if status else None
    matches = phrase_matches(diagnostic) or phrase_matches(context)
    if any(m[3] == "after mail from" for m in matches):
        # Refused at MAIL FROM: "does not exist" and the like describe the sender, not us.
        matches = tuple(m for m in matches if m[2] not in (MAILBOX, DOMAIN, NOT_ACCEPT))
        if entry is not None and entry[0] in (MAILBOX, DOMAIN, NOT_ACCEPT):
            entry = None
    strong = [m for m in matches if m[0] == STRONG]
    if entry is not None and status and status[2:] == "0.0":
        # "x.0.0" only gives the class: wording, then the reply code, say more.
        if not matches and reply_code in REPLY_TABLE:
            entry = None
        use_status = not matches and entry is not None
    elif entry is not None and entry[2]:
        use_status = not strong or any(m[2] == entry[0] for m in matches)
        if status and _status_key(status) in SENDER_SIDE:
            use_status = True  # our own domain or authentication: no wording overrides it
    else:
        use_status = entry is not None and not strong
    if use_status:
        assert entry is not None
        reason = entry[0]
        why = f"DSN status {status}: {entry[1]}"
    elif matches:
        reason = matches[0][2]
        snippet = matches[0][3].strip()
        lead = f"status {status}, " if status else (f"reply {reply_code}, " if reply_code else "")
        why = f'Diagnostic ({lead}"{snippet}"): {MEANING[reason]}'
    elif reply_code and reply_code in REPLY_TABLE:
        reason, meaning = REPLY_TABLE[reply_code]
        why = f"SMTP reply {reply_code}: {meaning}"
    else:
        reason = OTHER
        why = "Delivery failed without a recognisable reason" + (
            f" (status {status})" if status else ""
        )
    if klass == "4" and (reason in _PERMANENT_CATEGORIES or reason == DOMAIN):
        why += " (a transient failure: no permanent block)"
    return Decision(_type_for(reason, klass), _category_for(reason, klass), why)
