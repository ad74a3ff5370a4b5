// The classification table over every error librdkafka defines: what is transient, what is
// permanent, which code and status a client sees, and what the messages say.
#include "kafka/error_class.h"

#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>

#include <set>
#include <string>

namespace intake::kafka {
namespace {

TEST(KafkaErrorClass, EveryErrorLibrdkafkaDefinesGetsAClassAndAnErrorStatus) {
  const struct rd_kafka_err_desc* descriptions = nullptr;
  std::size_t count = 0;
  rd_kafka_get_err_descs(&descriptions, &count);
  int listed = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (descriptions[i].name == nullptr || descriptions[i].code == RD_KAFKA_RESP_ERR_NO_ERROR) continue;
    const auto error_class = classify_kafka_error(descriptions[i].code);
    const int status = error_http_status(error_class.code);
    if (error_class.listed) ++listed;
    if (error_class.transient()) {
      // "Not now": the client may retry the same record.
      EXPECT_TRUE(status == 429 || status == 503 || status == 504) << descriptions[i].name << " " << status;
    } else {
      EXPECT_TRUE((status >= 400 && status < 500) || status == 502) << descriptions[i].name << " " << status;
    }
  }
  EXPECT_GT(listed, 60);
}

TEST(KafkaErrorClass, BrokerTroubleIsTransient) {
  for (const auto err :
       {RD_KAFKA_RESP_ERR__TRANSPORT, RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN, RD_KAFKA_RESP_ERR__MSG_TIMED_OUT,
        RD_KAFKA_RESP_ERR_REQUEST_TIMED_OUT, RD_KAFKA_RESP_ERR_LEADER_NOT_AVAILABLE,
        RD_KAFKA_RESP_ERR_NOT_LEADER_FOR_PARTITION, RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS,
        RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS_AFTER_APPEND, RD_KAFKA_RESP_ERR__QUEUE_FULL,
        RD_KAFKA_RESP_ERR__PURGE_QUEUE, RD_KAFKA_RESP_ERR__PURGE_INFLIGHT, RD_KAFKA_RESP_ERR__FATAL,
        RD_KAFKA_RESP_ERR_OUT_OF_ORDER_SEQUENCE_NUMBER, RD_KAFKA_RESP_ERR_NETWORK_EXCEPTION,
        RD_KAFKA_RESP_ERR_KAFKA_STORAGE_ERROR, RD_KAFKA_RESP_ERR_THROTTLING_QUOTA_EXCEEDED}) {
    const auto error_class = classify_kafka_error(err);
    EXPECT_TRUE(error_class.listed) << rd_kafka_err2name(err);
    EXPECT_TRUE(error_class.transient()) << rd_kafka_err2name(err);
  }
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__QUEUE_FULL).code, ErrorCode::kBackpressure);
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__MSG_TIMED_OUT).code, ErrorCode::kDeliveryTimeout);
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__TRANSPORT).code, ErrorCode::kKafkaUnavailable);
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__FATAL).reason, FailureReason::kFatal);
  EXPECT_EQ(classify_kafka_error(RD_KAFKA_RESP_ERR__PURGE_QUEUE).reason, FailureReason::kPurged);
}

TEST(KafkaErrorClass, RefusalsOfTheRecordItselfArePermanentWithTheirOwnCodes) {
  struct Case {
    rd_kafka_resp_err_t err;
    ErrorCode code;
    int status;
    FailureReason reason;
  };
  for (const auto& c : {
           Case{RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, ErrorCode::kPartitionNotFound, 404,
                FailureReason::kUnknownPartition},
           Case{RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, ErrorCode::kTopicNotFound, 404, FailureReason::kUnknownTopic},
           Case{RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART, ErrorCode::kTopicNotFound, 404, FailureReason::kUnknownTopic},
           Case{RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED, ErrorCode::kKafkaNotAuthorized, 403,
                FailureReason::kNotAuthorized},
           Case{RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, ErrorCode::kRecordTooLarge, 413, FailureReason::kTooLarge},
           Case{RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE, ErrorCode::kRecordTooLarge, 413, FailureReason::kTooLarge},
           Case{RD_KAFKA_RESP_ERR_INVALID_RECORD, ErrorCode::kInvalidRecord, 422, FailureReason::kInvalidRecord},
           Case{RD_KAFKA_RESP_ERR_INVALID_MSG, ErrorCode::kInvalidRecord, 422, FailureReason::kInvalidRecord},
           Case{RD_KAFKA_RESP_ERR__INVALID_ARG, ErrorCode::kInvalidRecord, 422, FailureReason::kInvalidRecord},
       }) {
    const auto error_class = classify_kafka_error(c.err);
    EXPECT_TRUE(error_class.listed) << rd_kafka_err2name(c.err);
    EXPECT_FALSE(error_class.transient()) << rd_kafka_err2name(c.err);
    EXPECT_EQ(error_class.code, c.code) << rd_kafka_err2name(c.err);
    EXPECT_EQ(error_class.reason, c.reason) << rd_kafka_err2name(c.err);
    EXPECT_EQ(error_http_status(error_class.code), c.status) << rd_kafka_err2name(c.err);
  }
}

TEST(KafkaErrorClass, AnErrorTheTableDoesNotKnowIsPermanentSoItCannotBlockTheSpool) {
  const auto error_class = classify_kafka_error(RD_KAFKA_RESP_ERR__PARTITION_EOF);  // a consumer's error
  EXPECT_FALSE(error_class.listed);
  EXPECT_FALSE(error_class.transient());
  EXPECT_EQ(error_class.code, ErrorCode::kDeliveryFailed);
  EXPECT_FALSE(classify_kafka_error(12345).transient());
}

TEST(KafkaErrorClass, APartitionErrorNamesTheTopicsPartitionCount) {
  const auto error = kafka_error(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, {"events", 9999, 3});
  EXPECT_EQ(error.code, ErrorCode::kPartitionNotFound);
  EXPECT_NE(error.message.find("topic 'events' has 3 partitions (0-2)"), std::string::npos) << error.message;
  EXPECT_NE(error.message.find("partition 9999 does not exist"), std::string::npos) << error.message;
  const auto unknown_count = kafka_error(RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION, {"events", 7, -1});
  EXPECT_NE(unknown_count.message.find("partition 7 does not exist in topic 'events'"), std::string::npos)
      << unknown_count.message;
}

TEST(KafkaErrorClass, MessagesSayWhatToDo) {
  EXPECT_NE(kafka_error(RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC, {"nope", -1, -1}).message.find("create it first"),
            std::string::npos);
  EXPECT_NE(kafka_error(RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE, {"t", -1, -1}).message.find("smaller record"),
            std::string::npos);
  EXPECT_NE(kafka_error(RD_KAFKA_RESP_ERR__TRANSPORT, {"t", -1, -1}).message.find("retry later"), std::string::npos);
}

TEST(FailureReasons, TransientAndPermanentSplitWhereTheEnumSaysAndEveryReasonHasAName) {
  for (const auto reason : {FailureReason::kTimedOut, FailureReason::kPurged, FailureReason::kHandOverFailed,
                            FailureReason::kBrokerUnavailable, FailureReason::kQueueFull, FailureReason::kFatal}) {
    EXPECT_TRUE(retriable(reason)) << failure_reason_name(reason);
  }
  for (const auto reason : {FailureReason::kTooLarge, FailureReason::kUnknownTopic, FailureReason::kUnknownPartition,
                            FailureReason::kNotAuthorized, FailureReason::kInvalidRecord, FailureReason::kOther}) {
    EXPECT_FALSE(retriable(reason)) << failure_reason_name(reason);
  }
  std::set<std::string_view> names;
  for (int i = 0; i < static_cast<int>(FailureReason::kCount_); ++i) {
    EXPECT_TRUE(names.insert(failure_reason_name(static_cast<FailureReason>(i))).second) << i;
  }
}

}  // namespace
}  // namespace intake::kafka
