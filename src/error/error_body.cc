#include "error/error_body.h"

namespace intake {

void write_error_member(json::Writer& out, const Error& error) {
  out.begin_object("error").field("code", error_name(error.code)).field("message", error.message).end_object();
}

}  // namespace intake
