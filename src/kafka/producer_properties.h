// The librdkafka properties Intake's producer runs with, in the order they are set: Intake's
// defaults, then the YAML's kafka.properties (which may override any of them). One list, so the
// benchmark's bare producer measures librdkafka with exactly the gateway's settings.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "kafka/producer_options.h"

namespace intake::kafka {

using PropertyList = std::vector<std::pair<std::string, std::string>>;

// Everything but bootstrap.servers, which the caller adds per broker set.
PropertyList producer_properties(const ProducerOptions& options, std::string_view client_id);

}  // namespace intake::kafka
