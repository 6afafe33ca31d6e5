"""Names of the Kafka headers the service reads and writes."""

from typing import Final

NOTIFICATION_ID: Final = "x-notification-id"
WEBHOOK_TYPE: Final = "x-webhook-type"
EVENT_TYPE: Final = "x-event-type"
EVENT_ID: Final = "x-event-id"
SHOP_ID: Final = "x-shop-id"
# Dead-letter records say where the message came from and why it was set aside.
ORIGIN_TOPIC: Final = "x-origin-topic"
ORIGIN_PARTITION: Final = "x-origin-partition"
ORIGIN_OFFSET: Final = "x-origin-offset"
FAILURE_REASON: Final = "x-failure-reason"
# A replayed dead letter names the letter it came from (`<partition>:<offset>`).
REPLAY_OF: Final = "x-replay-of"
