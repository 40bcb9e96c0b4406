#include "sim/serving/dispatch/dispatcher.hpp"

namespace kunsim {

Registry<DispatcherFactory>& dispatcher_registry() {
  static Registry<DispatcherFactory> table("dispatcher");
  return table;
}

std::unique_ptr<Dispatcher> make_dispatcher(const std::string& name, const std::string& json_path,
                                            const DispatchParams& params) {
  return dispatcher_registry().at(name, json_path)(params);
}

}  // namespace kunsim
