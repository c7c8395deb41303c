package import CRIAPI
package import GRPCCore

/// `runtime.v1.ImageService` over the image store.
package struct ImageServiceHandler: Runtime_V1_ImageService.SimpleServiceProtocol {
    let runtime: CRIRuntime
    let puller: ImagePuller

    package init(runtime: CRIRuntime) {
        self.runtime = runtime
        puller = ImagePuller(store: runtime.images)
    }

    package func listImages(request: Runtime_V1_ListImagesRequest, context: ServerContext) async throws -> Runtime_V1_ListImagesResponse {
        try await mappingErrors {
            var records = await runtime.images.list()
            if request.hasFilter, request.filter.hasImage, !request.filter.image.image.isEmpty {
                records = await runtime.images.find(request.filter.image.image).map { [$0] } ?? []
            }
            var response = Runtime_V1_ListImagesResponse()
            response.images = try await records.asyncMap { try await message(for: $0) }
            return response
        }
    }

    package func imageStatus(request: Runtime_V1_ImageStatusRequest, context: ServerContext) async throws -> Runtime_V1_ImageStatusResponse {
        try await mappingErrors {
            guard request.hasImage, !request.image.image.isEmpty else { throw CRIError.invalidArgument("image.image is required") }
            var response = Runtime_V1_ImageStatusResponse()
            // An absent image is not an error: the response simply has no image.
            if let record = await runtime.images.find(request.image.image) {
                response.image = try await message(for: record)
            }
            return response
        }
    }

    package func pullImage(request: Runtime_V1_PullImageRequest, context: ServerContext) async throws -> Runtime_V1_PullImageResponse {
        try await mappingErrors {
            guard request.hasImage, !request.image.image.isEmpty else { throw CRIError.invalidArgument("image.image is required") }
            var response = Runtime_V1_PullImageResponse()
            response.imageRef = try await puller.pull(request.image.image, auth: request.hasAuth ? request.auth : nil).id
            return response
        }
    }

    package func removeImage(request: Runtime_V1_RemoveImageRequest, context: ServerContext) async throws -> Runtime_V1_RemoveImageResponse {
        try await mappingErrors {
            guard request.hasImage, !request.image.image.isEmpty else { throw CRIError.invalidArgument("image.image is required") }
            try await runtime.images.remove(request.image.image)
            return Runtime_V1_RemoveImageResponse()
        }
    }

    package func imageFsInfo(request: Runtime_V1_ImageFsInfoRequest, context: ServerContext) async throws -> Runtime_V1_ImageFsInfoResponse {
        await runtime.imageFilesystemInfo()
    }

    package func streamImages(request: Runtime_V1_StreamImagesRequest, response: RPCWriter<Runtime_V1_StreamImagesResponse>, context: ServerContext)
        async throws
    {
        throw RuntimeServiceHandler.unimplemented("StreamImages", "use ListImages")
    }

    private func message(for record: ImageRecord) async throws -> Runtime_V1_Image {
        var image = Runtime_V1_Image()
        image.id = record.id
        image.repoTags = record.repoTags
        image.repoDigests = record.repoDigests
        image.size = UInt64(max(record.size, 1))
        image.spec.image = record.id
        let user = (try? await runtime.images.configuration(of: record))?.config?.user ?? ""
        let uidPart = user.split(separator: ":").first.map(String.init) ?? ""
        if let uid = Int64(uidPart) {
            image.uid.value = uid
        } else if !uidPart.isEmpty {
            image.username = uidPart
        } else {
            image.uid.value = 0
        }
        return image
    }
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var result: [T] = []
        result.reserveCapacity(count)
        for element in self { result.append(try await transform(element)) }
        return result
    }
}
