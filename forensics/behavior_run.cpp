// Behaviour evidence for `modelprint compare` from paths (see behavior_run.h).
#include "forensics/behavior_run.h"

#include <set>

#include "fingerprint/probes/probe_set.h"

namespace modelprint {

// compare_behavior_paths: forensics/behavior_paths.cpp.

}  // namespace modelprint
