"""Payment processor: SQS batches from the PaymentEventsQueue, each a verified provider payment,
registered once per provider event id by `billing.payments.processor` (which also queues the
merchant callbacks). Records that failed transiently are reported in `batchItemFailures`
(ReportBatchItemFailures) and delivered again; permanent failures are dead-lettered by the
processor itself and reported done."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.payments.processor import processor as payments

logger = Logger()
batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> str:
    return payments.process_message(record.body).value


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return process_partial_response(
        event=event, record_handler=record_handler, processor=batch, context=context
    )
