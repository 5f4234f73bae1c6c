// Fuzz target: one WAL line (DecodeWalRecord). The input is the line without its '\n'.
// It is decoded as given (the checksum rejects almost everything) and again with its
// checksum trailer recomputed, so the JSON and item decoders see the hostile bytes.
// Properties: a failure always has a reason; every item of an accepted record passes the
// checks every write passes (ValidateItem, with the size limits that Options can raise
// lifted), so replay can never take in what a flush cannot write; the record re-encodes to
// a line that decodes back to the same record. With T4DX_FUZZ_CANONICAL=1 in the
// environment, an accepted line must also be byte for byte the line EncodeWalRecord writes
// (off by default: the decoder accepts some non-canonical forms, see tests/fuzz/README.md).
#include <cstdlib>
#include <limits>
#include <string>

#include "fuzz_support.h"
#include "t4dx/options.h"
#include "util/item_codec.h"
#include "wal/wal_record.h"

namespace t4dx {
namespace fuzz {
namespace {

bool SameRecord(const WalRecord& a, const WalRecord& b) {
  return a.lsn == b.lsn && a.timestamp == b.timestamp && a.op == b.op && a.items == b.items &&
         a.id == b.id;
}

bool CanonicalChecks() {
  static const bool on = [] {
    const char* v = std::getenv("T4DX_FUZZ_CANONICAL");
    return v != nullptr && std::string(v) == "1";
  }();
  return on;
}

// The store rules that do not depend on Options (sizes that Options can raise are lifted).
Options RelaxedOptions() {
  Options o;
  o.max_content_bytes = std::numeric_limits<size_t>::max();
  o.max_metadata_bytes = std::numeric_limits<size_t>::max();
  return o;
}

void DecodeOne(std::string_view line) {
  WalRecord r;
  std::string reason;
  if (!DecodeWalRecord(line, &r, &reason)) {
    T4DX_FUZZ_CHECK(!reason.empty(), "a rejected WAL line has no reason");
    return;
  }
  T4DX_FUZZ_CHECK(r.last_lsn() >= r.lsn, "last_lsn() below lsn");
  static const Options relaxed = RelaxedOptions();
  for (const Item& item : r.items) {
    const Status s = ValidateItem(item, 0, relaxed, "item");
    T4DX_FUZZ_CHECK(s.ok(), "accepted WAL record holds an item no write could store: " +
                                s.ToString());
  }
  std::string encoded;
  EncodeWalRecord(r, &encoded);
  if (CanonicalChecks()) {
    T4DX_FUZZ_CHECK(
        encoded.size() == line.size() + 1 && encoded.compare(0, line.size(), line) == 0,
        "accepted WAL line is not the canonical encoding of its record:\n  line: " +
            std::string(line) + "\n  encoded: " + encoded);
  }
  WalRecord again;
  std::string why;
  const bool ok = DecodeWalRecord(std::string_view(encoded).substr(0, encoded.size() - 1), &again,
                                  &why);
  T4DX_FUZZ_CHECK(ok, "re-encoded WAL record does not decode: " + why);
  T4DX_FUZZ_CHECK(!ok || SameRecord(r, again), "re-encoded WAL record decodes differently");
}

}  // namespace

int FuzzWalLine(const uint8_t* data, size_t size) {
  const std::string_view line = AsView(data, size);
  DecodeOne(line);
  const std::string fixed = FixWalLineChecksum(line);
  if (fixed != line) DecodeOne(fixed);
  return 0;
}

}  // namespace fuzz
}  // namespace t4dx

T4DX_FUZZ_ENTRY(FuzzWalLine)
