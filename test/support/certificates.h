#pragma once

#include <string>

namespace usersvc::test {

/// A throwaway CA, a server certificate for 127.0.0.1 and localhost and two client certificates
/// (CN usersvc-test-client; and spiffe-client, whose URI SAN is
/// spiffe://shop.test/ns/orders/sa/orders), all signed by the CA, and a second CA that signed
/// nothing of ours; made by openssl in a temporary directory (readable by the postgres user, which
/// a test's cluster runs as) and removed with the object.
class Certificates {
 public:
  Certificates();
  ~Certificates();
  Certificates(const Certificates&) = delete;
  Certificates& operator=(const Certificates&) = delete;

  const std::string& dir() const { return dir_; }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  std::string Read(const std::string& name) const;

 private:
  void Run(const std::string& arguments) const;
  void Issue(const std::string& name, const std::string& common_name,
             const std::string& extensions) const;

  std::string dir_;
};

}  // namespace usersvc::test
