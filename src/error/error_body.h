// The JSON an error is told in: the member "error":{"code":"<name>","message":"<message>"},
// written into an object the caller has opened. http::error_response writes it alone; a batch
// refused midway writes "accepted" beside it.
#pragma once

#include "error/error.h"
#include "json/writer.h"

namespace intake {

void write_error_member(json::Writer& out, const Error& error);

}  // namespace intake
