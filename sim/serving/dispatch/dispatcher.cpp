#include "sim/serving/dispatch/dispatcher.hpp"

#include <stdexcept>

namespace kunsim {

Registry<DispatcherFactory>& dispatcher_registry() {
  static Registry<DispatcherFactory> table("dispatcher");
  return table;
}

std::size_t Dispatcher::pick_tracked(const Request&, SimTime) {
  throw std::logic_error("Dispatcher: pick_tracked on a dispatcher that tracks no loads");
}

std::unique_ptr<Dispatcher> make_dispatcher(const std::string& name, const std::string& json_path,
                                            const DispatchParams& params) {
  return dispatcher_registry().at(name, json_path)(params);
}

}  // namespace kunsim
