"""Merchant callbacks: SQS batches from the CallbacksQueue, each record POSTed to its endpoint by
`billing.payments.dispatch` (Standard Webhooks signatures, retry schedule, delivery log). Records
that must be retried later are reported in `batchItemFailures` (ReportBatchItemFailures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.payments.dispatch import Dispatcher

logger = Logger()
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
dispatcher = Dispatcher()


def record_handler(record: SQSRecord, lambda_context: LambdaContext) -> None:
    dispatcher.process(record, lambda: lambda_context.get_remaining_time_in_millis() / 1000)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    dispatcher.start_batch()
    return process_partial_response(
        event=event, record_handler=record_handler, processor=processor, context=context
    )
