#include "kafka/error_class.h"

#include <librdkafka/rdkafka.h>

#include <array>
#include <string>

namespace intake::kafka {
namespace {

struct Row {
  rd_kafka_resp_err_t error;
  FailureReason reason;
  ErrorCode code;
};

using R = FailureReason;
using C = ErrorCode;

// Every error a producer can meet from rd_kafka_producev() or in a delivery report. Broker
// errors that librdkafka retries by itself (leader moves, not enough replicas, ...) reach a
// report only once message.timeout.ms gives up on them, but are listed so that a report that
// still carries one is retried, not quarantined.
constexpr std::array kTable{
    // Transient: Kafka cannot take the record now; the same record can succeed later.
    Row{RD_KAFKA_RESP_ERR__QUEUE_FULL, R::kQueueFull, C::kBackpressure},
    Row{RD_KAFKA_RESP_ERR__MSG_TIMED_OUT, R::kTimedOut, C::kDeliveryTimeout},
    Row{RD_KAFKA_RESP_ERR__TIMED_OUT, R::kTimedOut, C::kDeliveryTimeout},
    Row{RD_KAFKA_RESP_ERR__TIMED_OUT_QUEUE, R::kTimedOut, C::kDeliveryTimeout},
    Row{RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, R::kTimedOut, C::kDeliveryTimeout},
    Row{RD_KAFKA_RESP_ERR__PURGE_QUEUE, R::kPurged, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, R::kPurged, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__DESTROY, R::kPurged, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__FATAL, R::kFatal, C::kKafkaUnavailable},
    // Idempotence errors librdkafka turns into a fatal error: a fresh producer can send it.
    Row{RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_INVALID_PRODUCER_EPOCH, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_UNKNOWN_PRODUCER_ID, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_INVALID_PRODUCER_ID_MAPPING, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_PRODUCER_FENCED, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__FENCED, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__GAPLESS_GUARANTEE, R::kFatal, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__INCONSISTENT, R::kFatal, C::kKafkaUnavailable},
    // The cluster or the way to it is unwell.
    Row{RD_KAFKA_RESP_ERR__TRANSPORT, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__RESOLVE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__SSL, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__AUTHENTICATION, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__CRIT_SYS_RESOURCE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__FAIL, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__FS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__ISR_INSUFF, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__NODE_UPDATE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__WAIT_COORD, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__RETRY, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__STATE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__IN_PROGRESS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__PREV_IN_PROGRESS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__OUTDATED, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__UNKNOWN_BROKER, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR__INTR, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_UNKNOWN, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_BROKER_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_REPLICA_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_COORDINATOR_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_NOT_COORDINATOR, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_NOT_CONTROLLER, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_LOG_DIR_NOT_FOUND, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_SASL_AUTHENTICATION_FAILED, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_REASSIGNMENT_IN_PROGRESS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_FENCED_LEADER_EPOCH, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_UNKNOWN_LEADER_EPOCH, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_STALE_BROKER_EPOCH, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_OFFSET_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_PREFERRED_LEADER_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_ELIGIBLE_LEADERS_NOT_AVAILABLE, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_CONCURRENT_TRANSACTIONS, R::kBrokerUnavailable, C::kKafkaUnavailable},
    Row{RD_KAFKA_RESP_ERR_OPERATION_NOT_ATTEMPTED, R::kBrokerUnavailable, C::kKafkaUnavailable},
    // Permanent: Kafka refuses this record as it is.
    Row{RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, R::kUnknownTopic, C::kTopicNotFound},
    Row{RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, R::kUnknownTopic, C::kTopicNotFound},
    Row{RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION, R::kUnknownTopic, C::kTopicNotFound},
    Row{RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, R::kUnknownPartition, C::kPartitionNotFound},
    Row{RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, R::kTooLarge, C::kRecordTooLarge},
    Row{RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, R::kTooLarge, C::kRecordTooLarge},
    Row{RD_KAFKA_RESP_ERR_INVALID_MSG_SIZE, R::kTooLarge, C::kRecordTooLarge},
    Row{RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, R::kNotAuthorized, C::kKafkaNotAuthorized},
    Row{RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED, R::kNotAuthorized, C::kKafkaNotAuthorized},
    Row{RD_KAFKA_RESP_ERR_TRANSACTIONAL_ID_AUTHORIZATION_FAILED, R::kNotAuthorized, C::kKafkaNotAuthorized},
    Row{RD_KAFKA_RESP_ERR_INVALID_MSG, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_INVALID_RECORD, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR__BAD_MSG, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR__BAD_COMPRESSION, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR__INVALID_ARG, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR__INVALID_TYPE, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_INVALID_TIMESTAMP, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_INVALID_REQUIRED_ACKS, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_INVALID_REQUEST, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_UNSUPPORTED_FOR_MESSAGE_FORMAT, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_UNSUPPORTED_COMPRESSION_TYPE, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR_POLICY_VIOLATION, R::kInvalidRecord, C::kInvalidRecord},
    Row{RD_KAFKA_RESP_ERR__NOT_IMPLEMENTED, R::kOther, C::kDeliveryFailed},
    Row{RD_KAFKA_RESP_ERR__UNSUPPORTED_FEATURE, R::kOther, C::kDeliveryFailed},
    Row{RD_KAFKA_RESP_ERR_UNSUPPORTED_VERSION, R::kOther, C::kDeliveryFailed},
};

std::string partition_count_text(std::int32_t count) {
  if (count == 1) return "1 partition (0)";
  return std::to_string(count) + " partitions (0-" + std::to_string(count - 1) + ")";
}

}  // namespace

ErrorClass classify_kafka_error(int librdkafka_error) {
  for (const Row& row : kTable) {
    if (row.error == librdkafka_error) return {row.reason, row.code, true};
  }
  return {};
}

Error kafka_error(int librdkafka_error, const RecordContext& record) {
  const ErrorClass error_class = classify_kafka_error(librdkafka_error);
  const auto err = static_cast<rd_kafka_resp_err_t>(librdkafka_error);
  const std::string topic = "'" + std::string(record.topic) + "'";
  const std::string kafka_says = std::string(" (Kafka: ") + rd_kafka_err2name(err) + ")";
  switch (error_class.code) {
    case C::kBackpressure:
      return {C::kBackpressure, "the gateway's Kafka queue is full; retry after a pause"};
    case C::kDeliveryTimeout:
      return {C::kDeliveryTimeout,
              "Kafka did not acknowledge the record within kafka.delivery_timeout_ms; retry later" + kafka_says};
    case C::kTopicNotFound:
      return {C::kTopicNotFound, "topic " + topic +
                                     " does not exist in Kafka and the cluster does not create topics on first "
                                     "write; create it first" +
                                     kafka_says};
    case C::kPartitionNotFound:
      if (record.partition_count > 0) {
        return {C::kPartitionNotFound, "topic " + topic + " has " + partition_count_text(record.partition_count) +
                                           "; partition " + std::to_string(record.partition) +
                                           " does not exist. Name an existing partition or leave "
                                           "X-Intake-Partition out"};
      }
      return {C::kPartitionNotFound, "partition " + std::to_string(record.partition) + " does not exist in topic " +
                                         topic + "; name an existing partition or leave X-Intake-Partition out"};
    case C::kRecordTooLarge:
      return {C::kRecordTooLarge,
              "the record is larger than Kafka accepts (message.max.bytes); send a smaller record" + kafka_says};
    case C::kKafkaNotAuthorized:
      return {C::kKafkaNotAuthorized, "Kafka's ACLs refuse the gateway's producer access to topic " + topic +
                                          "; an operator must grant it in Kafka" + kafka_says};
    case C::kInvalidRecord:
      return {C::kInvalidRecord,
              std::string("Kafka refused the record as invalid: ") + rd_kafka_err2str(err) + kafka_says};
    case C::kKafkaUnavailable:
      if (error_class.reason == R::kFatal) {
        return {C::kKafkaUnavailable, "the Kafka producer is being restarted after a fatal error; retry shortly"};
      }
      return {C::kKafkaUnavailable,
              std::string("Kafka cannot take the record now: ") + rd_kafka_err2str(err) + "; retry later"};
    default:
      return {C::kDeliveryFailed, std::string("Kafka refused the record: ") + rd_kafka_err2str(err) + kafka_says};
  }
}

}  // namespace intake::kafka
