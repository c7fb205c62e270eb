"""Apollo plugin: analyze Apollo.io search URLs and map them onto contact filters."""
