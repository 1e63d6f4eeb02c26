// Which URL a registry domain is reached at, and when plain HTTP is used (loopback, insecure list).
#include <gtest/gtest.h>

#include "image/endpoint.hpp"

using namespace twinbox::image;

namespace {

TEST(RegistryEndpoint, DockerHubUsesItsApiHost) {
  for (const char* d : {"docker.io", "index.docker.io", "registry-1.docker.io"}) {
    RegistryEndpoint ep = registry_endpoint(d, {});
    EXPECT_EQ(ep.registry, "docker.io") << d;
    EXPECT_EQ(ep.base_url, "https://registry-1.docker.io") << d;
    EXPECT_FALSE(ep.plain_http);
  }
}

TEST(RegistryEndpoint, HttpsByDefault) {
  RegistryEndpoint ep = registry_endpoint("ghcr.io", {});
  EXPECT_EQ(ep.base_url, "https://ghcr.io");
  EXPECT_EQ(registry_endpoint("registry.example.com:5000", {}).base_url,
            "https://registry.example.com:5000");
}

TEST(RegistryEndpoint, LoopbackIsPlainHttp) {
  for (const char* d :
       {"127.0.0.1:5000", "127.1.2.3", "localhost", "LocalHost:5001", "[::1]:5000"}) {
    EXPECT_TRUE(is_loopback_registry(d)) << d;
    EXPECT_TRUE(registry_endpoint(d, {}).plain_http) << d;
  }
  EXPECT_EQ(registry_endpoint("127.0.0.1:5000", {}).base_url, "http://127.0.0.1:5000");
  EXPECT_EQ(registry_endpoint("[::1]:5000", {}).base_url, "http://[::1]:5000");
  for (const char* d : {"128.0.0.1:5000", "localhost.example.com", "10.0.2.2:5000", "::2"}) {
    EXPECT_FALSE(is_loopback_registry(d)) << d;
  }
}

TEST(RegistryEndpoint, InsecureListByHostPortAndCidr) {
  std::vector<std::string> insecure = {"10.0.2.2:5000", "Registry.LAN", "192.168.0.0/16",
                                       "http://build.box:8080/"};
  EXPECT_TRUE(is_insecure_registry("10.0.2.2:5000", insecure));
  EXPECT_FALSE(is_insecure_registry("10.0.2.2:5001", insecure));    // the port was named
  EXPECT_TRUE(is_insecure_registry("registry.lan:443", insecure));  // no port: any port
  EXPECT_TRUE(is_insecure_registry("192.168.7.9:5000", insecure));
  EXPECT_FALSE(is_insecure_registry("192.169.0.1", insecure));
  EXPECT_TRUE(is_insecure_registry("build.box:8080", insecure));
  EXPECT_FALSE(is_insecure_registry("ghcr.io", insecure));
  EXPECT_EQ(registry_endpoint("10.0.2.2:5000", insecure).base_url, "http://10.0.2.2:5000");
}

}  // namespace
